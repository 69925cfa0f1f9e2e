package conform

// sysSetns is setns(2)'s number; package syscall's 386 table lacks it.
const sysSetns = 346
