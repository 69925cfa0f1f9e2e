// Package simnet runs threeway stacks on simulated time outside a test,
// stepped by one driver, so that a conversation is a function of its
// inputs: a command (threeway demo) and the conformance runner use it
// where synctest, which needs a *testing.T, is not available.
//
// Nothing in a stepped world runs unless the driver lets it, so the
// driver knows exactly when everything is idle and no quiet period or
// scheduling guess is needed:
//   - a stack reads its packets from a Port, which the driver hands
//     them through one batch at a time, waiting until the stack is done
//     with each (it comes back for the next);
//   - the clock is a clock.Sim whose timers, the stacks' and the link's,
//     run in the driver's goroutine when it advances the clock;
//   - applications are written as straight-line code that waits in
//     Waiter.Until and never in a blocking call; the driver resumes
//     each in turn (iter.Pull) and they run only while it waits.
//
// Net.Run is the loop: hand every queued packet to its stack, resume the
// applications, and only when neither did anything move the clock to its
// next timer.
package simnet
