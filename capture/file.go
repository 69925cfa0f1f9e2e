package capture

import "os"

// File is a capture file's bytes: mapped read-only into memory where the
// system allows it, so that packets are views into the page cache rather
// than into a copy; read into memory elsewhere.
type File struct {
	Data  []byte
	unmap func() error
}

// OpenFile maps or reads the file at path. Packets read from Data are
// valid until Close.
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Mode().IsRegular() && fi.Size() > 0 && int64(int(fi.Size())) == fi.Size() {
		if b, unmap, err := mapFile(f, int(fi.Size())); err == nil {
			return &File{Data: b, unmap: unmap}, nil
		}
	}
	b, err := os.ReadFile(path) // a pipe, an empty file, or no mmap
	if err != nil {
		return nil, err
	}
	return &File{Data: b}, nil
}

// Close releases the file's bytes; packets read from it must not be used
// after.
func (f *File) Close() error {
	f.Data = nil
	if f.unmap != nil {
		u := f.unmap
		f.unmap = nil
		return u()
	}
	return nil
}
