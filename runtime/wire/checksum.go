package wire

import "hash/crc32"

// Checksums over part of a message. Each takes the bytes it covers and the
// place of the checksum field within them, which counts as zeros (skip is
// its offset and n its length; n is 0 when the field lies outside), as the
// Internet checksum of an IP header is computed.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC32 returns the IEEE CRC-32 (that of Ethernet, zlib and PNG) of b, with
// b[skip:skip+n] taken as zeros.
func CRC32(b []byte, skip, n int) uint32 { return crcSkipping(crc32.IEEETable, b, skip, n) }

// CRC32C returns the Castagnoli CRC-32 (that of iSCSI, SCTP and ext4) of b,
// with b[skip:skip+n] taken as zeros.
func CRC32C(b []byte, skip, n int) uint32 { return crcSkipping(castagnoli, b, skip, n) }

var zeros [8]byte

func crcSkipping(tab *crc32.Table, b []byte, skip, n int) uint32 {
	if n == 0 {
		return crc32.Update(0, tab, b)
	}
	crc := crc32.Update(0, tab, b[:skip])
	for left := n; left > 0; left -= len(zeros) {
		crc = crc32.Update(crc, tab, zeros[:min(left, len(zeros))])
	}
	return crc32.Update(crc, tab, b[skip+n:])
}

// InternetChecksum returns the Internet checksum of RFC 1071 (IP, TCP,
// UDP, ICMP): the ones' complement of the ones' complement sum of b's
// big-endian 16-bit words, an odd last byte padded with a zero, with
// b[skip:skip+n] taken as zeros.
func InternetChecksum(b []byte, skip, n int) uint16 {
	var sum uint64
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint64(b[len(b)-1]) << 8
	}
	// Take the skipped bytes back out: a byte at an even offset was added
	// as the high half of its word.
	for i := skip; i < skip+n; i++ {
		if i%2 == 0 {
			sum -= uint64(b[i]) << 8
		} else {
			sum -= uint64(b[i])
		}
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
