package wire

import (
	"bytes"
	"testing"
)

func TestChecksumKnownValues(t *testing.T) {
	check := []byte("123456789") // the check input of the CRC catalogues
	if got := CRC32(check, 0, 0); got != 0xCBF43926 {
		t.Errorf("CRC32(123456789) = %#x, want 0xcbf43926", got)
	}
	if got := CRC32C(check, 0, 0); got != 0xE3069283 {
		t.Errorf("CRC32C(123456789) = %#x, want 0xe3069283", got)
	}
	// RFC 1071, section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
	rfc := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := InternetChecksum(rfc, 0, 0); got != ^uint16(0xddf2) {
		t.Errorf("InternetChecksum(RFC 1071 example) = %#x, want %#x", got, ^uint16(0xddf2))
	}
	// An IPv4 header whose checksum field (bytes 10 and 11) holds b861.
	ip := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if got := InternetChecksum(ip, 10, 2); got != 0xb861 {
		t.Errorf("InternetChecksum(IPv4 header, skipping its checksum) = %#x, want 0xb861", got)
	}
	if got := InternetChecksum(ip, 0, 0); got != 0 {
		t.Errorf("InternetChecksum(IPv4 header with its checksum) = %#x, want 0", got)
	}
}

// TestChecksumSkip checks that skipped bytes count as zeros, at every place
// and length, odd offsets and lengths included.
func TestChecksumSkip(t *testing.T) {
	for _, b := range [][]byte{
		[]byte("the quick brown fox jumps over the lazy dog!"), // even length
		[]byte("the quick brown fox jumps over the lazy dog"),  // odd length
	} {
		for skip := 0; skip <= len(b); skip++ {
			for n := 0; skip+n <= len(b) && n <= 11; n++ {
				zeroed := bytes.Clone(b)
				clear(zeroed[skip : skip+n])
				if got, want := CRC32(b, skip, n), CRC32(zeroed, 0, 0); got != want {
					t.Errorf("CRC32(%d bytes) skipping [%d:%d] = %#x, want %#x", len(b), skip, skip+n, got, want)
				}
				if got, want := CRC32C(b, skip, n), CRC32C(zeroed, 0, 0); got != want {
					t.Errorf("CRC32C(%d bytes) skipping [%d:%d] = %#x, want %#x", len(b), skip, skip+n, got, want)
				}
				if got, want := InternetChecksum(b, skip, n), InternetChecksum(zeroed, 0, 0); got != want {
					t.Errorf("InternetChecksum(%d bytes) skipping [%d:%d] = %#x, want %#x", len(b), skip, skip+n, got, want)
				}
			}
		}
	}
}

func TestChecksumsDoNotAllocate(t *testing.T) {
	b := bytes.Repeat([]byte("x"), 100)
	allocs := testing.AllocsPerRun(100, func() {
		_ = CRC32(b, 10, 4)
		_ = CRC32C(b, 10, 4)
		_ = InternetChecksum(b, 10, 2)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}
