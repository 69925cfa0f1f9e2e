module github.com/threeway-tcp/threeway

go 1.25

require golang.org/x/sys v0.32.0
