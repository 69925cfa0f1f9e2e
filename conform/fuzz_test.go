package conform

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary text to the script parser: it returns a
// script or an error, never panics or hangs.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "conformance", "*", "*.pkt"))
	for i, p := range paths {
		if i%8 != 0 {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("0 < S 0:0(0) win 1 <mss 1,sack 1:2 3:4,TS val 1 ecr 2,wscale 14,eol>\n")
	f.Add("+0.1~+0.3 > P. 1:11(10) ack 1 <...>\n`sysctl -q x=1`\n%{ print(1) }%\n")
	f.Fuzz(func(t *testing.T, src string) {
		Parse("fuzz.pkt", src)
	})
}
