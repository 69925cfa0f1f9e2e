module github.com/threeway-tcp/threeway

go 1.24
