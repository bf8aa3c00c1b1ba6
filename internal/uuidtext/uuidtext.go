// Package uuidtext writes a UUID's canonical text into a buffer of the
// caller's. uuid.UUID's String and MarshalText allocate the text each
// time, and both places that write UUIDs on a hot path (a user's history
// as a catch-up writes it, and the additional data of every sealed field)
// append them to buffers of their own.
package uuidtext

import (
	"encoding/hex"

	"github.com/google/uuid"
)

// Append appends id as uuid.UUID.String writes it.
func Append(dst []byte, id uuid.UUID) []byte {
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	hex.Encode(s[9:13], id[4:6])
	hex.Encode(s[14:18], id[6:8])
	hex.Encode(s[19:23], id[8:10])
	hex.Encode(s[24:36], id[10:16])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return append(dst, s[:]...)
}
