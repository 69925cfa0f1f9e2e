//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package capture

import (
	"errors"
	"os"
)

func mapFile(*os.File, int) ([]byte, func() error, error) {
	return nil, nil, errors.New("no mmap here")
}
