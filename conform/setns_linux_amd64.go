package conform

// sysSetns is setns(2)'s number; package syscall's amd64 table lacks it.
const sysSetns = 308
