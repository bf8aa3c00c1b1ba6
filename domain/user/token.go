package user

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"github.com/google/uuid"
)

// An invitation token is base64url(userID ‖ secret). The secret is
// HMAC-SHA256(server key, invitation id), where the invitation id is 128
// random bits chosen when the invitation is sent; events keep only
// SHA-256(secret). The mailer, which holds the key, derives the secret again
// from the event, so no token is ever stored.

const secretLen = sha256.Size

// ErrMalformedToken: the token is not one this system issues.
var ErrMalformedToken = errors.New("malformed invitation token")

// InvitationSecret derives an invitation's secret.
func InvitationSecret(key []byte, invitationID uuid.UUID) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bizcenter invitation v1\x00"))
	m.Write(invitationID[:])
	return m.Sum(nil)
}

// HashSecret is what events store of a secret.
func HashSecret(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])
}

// FormatToken is the token sent in the invitation email.
func FormatToken(userID uuid.UUID, secret []byte) string {
	return base64.RawURLEncoding.EncodeToString(append(userID[:], secret...))
}

// ParseToken splits a token into the user it names and its secret.
func ParseToken(token string) (uuid.UUID, []byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 16+secretLen {
		return uuid.Nil, nil, ErrMalformedToken
	}
	id, _ := uuid.FromBytes(raw[:16])
	return id, raw[16:], nil
}

// secretMatches compares in constant time.
func secretMatches(secret []byte, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}
