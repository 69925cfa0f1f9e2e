module github.com/threeway-tcp/threeway/bench

go 1.25

require (
	github.com/threeway-tcp/threeway v0.0.0
	gvisor.dev/gvisor v0.0.0-20250503011706-39ed1f5ac29c
)

require (
	github.com/google/btree v1.1.2 // indirect
	golang.org/x/sys v0.32.0 // indirect
	golang.org/x/time v0.7.0 // indirect
)

// threeway is this repository; gVisor must never enter ../go.mod.
replace github.com/threeway-tcp/threeway => ../
