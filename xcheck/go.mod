module github.com/threeway-tcp/threeway/xcheck

go 1.25

require (
	github.com/google/gopacket v1.1.19
	github.com/threeway-tcp/threeway v0.0.0
)

replace github.com/threeway-tcp/threeway => ../
