package xcheck_test

import (
	"math/rand/v2"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/threeway-tcp/threeway/wire"
)

// TestOptionsDifferential feeds random option areas to both parsers. Where
// gopacket rejects a length byte, ParseOptions must return ErrOptionLength;
// where both accept, they must agree on every known option.
func TestOptionsDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 1))
	// Biased alphabet so known kinds and plausible lengths are common.
	kinds := []byte{0, 1, 1, 2, 3, 4, 5, 8, 30, 254}
	var counts [3]int
	for iter := 0; iter < 50000; iter++ {
		n := 4 * r.IntN(11) // 0..40, whole words
		area := make([]byte, n)
		for i := 0; i < n; {
			area[i] = kinds[r.IntN(len(kinds))]
			if i+1 < n && r.IntN(4) != 0 {
				switch area[i] {
				case 2:
					area[i+1] = 4
				case 3:
					area[i+1] = 3
				case 4:
					area[i+1] = 2
				case 8:
					area[i+1] = 10
				case 5:
					area[i+1] = byte(2 + 8*r.IntN(6))
				default:
					area[i+1] = byte(r.IntN(12))
				}
				for j := i + 2; j < n && j < i+int(area[i+1]); j++ {
					area[j] = byte(r.Uint32())
				}
				i += max(int(area[i+1]), 1)
				continue
			}
			i++
		}
		if r.IntN(8) == 0 && n > 0 {
			area[r.IntN(n)] = byte(r.Uint32()) // a stray corruption
		}

		seg := make([]byte, 20+n)
		seg[12] = byte((20+n)/4) << 4
		copy(seg[20:], area)
		var gp layers.TCP
		gpErr := gp.DecodeFromBytes(seg, gopacket.NilDecodeFeedback)

		var ours wire.Options
		err := wire.ParseOptions(area, &ours)
		switch {
		case gpErr != nil:
			counts[0]++
			// gopacket appends the offending option before failing;
			// a bad known option ahead of it stops ParseOptions first.
			before := gp.Options[:max(len(gp.Options)-1, 0)]
			if _, ok := gpOptions(before); ok && err != wire.ErrOptionLength ||
				!ok && err != wire.ErrOptionMalformed {
				t.Fatalf("area % x: gopacket says %v, ours %v", area, gpErr, err)
			}
		case err == wire.ErrOptionLength:
			t.Fatalf("area % x: gopacket accepts, ours %v", area, err)
		default:
			want, ok := gpOptions(gp.Options)
			if !ok {
				counts[1]++
				if err != wire.ErrOptionMalformed {
					t.Fatalf("area % x: known option with bad length, ours %v", area, err)
				}
				continue
			}
			counts[2]++
			if err != nil || ours != want {
				t.Fatalf("area % x: ours %+v (%v), gopacket %+v", area, ours, err, want)
			}
		}
	}
	t.Logf("length errors %d, malformed %d, agreed %d", counts[0], counts[1], counts[2])
}
