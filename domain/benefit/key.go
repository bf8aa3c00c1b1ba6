package benefit

import (
	"crypto/hmac"
	"crypto/sha256"
	"math/big"
	"strings"

	"github.com/google/uuid"
)

// keyAlphabet are the characters of product keys (no vowels, no look-alikes).
const keyAlphabet = "BCDFGHJKMPQRTVWXY2346789"

// ProductKey is the product key of a benefit: five groups of five,
// derived from the server's secret, so that every retrieval of one
// benefit gives the same key and no event needs to hold it.
func ProductKey(secret []byte, packageID, benefitID uuid.UUID) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("bizcenter.benefit-product-key.v1\x00" + packageID.String() + "\x00" + benefitID.String()))
	n := new(big.Int).SetBytes(mac.Sum(nil))
	base, digit := big.NewInt(int64(len(keyAlphabet))), new(big.Int)
	var b strings.Builder
	for i := range 25 {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		n.DivMod(n, base, digit)
		b.WriteByte(keyAlphabet[digit.Int64()])
	}
	return b.String()
}

// Languages are the languages products are offered in (and marketing
// contacts are written to).
var Languages = []string{"ar-SA", "cs-CZ", "da-DK", "de-DE", "el-GR", "en-GB", "en-US", "es-ES", "fi-FI", "fr-FR", "he-IL",
	"hu-HU", "it-IT", "ja-JP", "ko-KR", "nb-NO", "nl-NL", "pl-PL", "pt-BR", "pt-PT", "ru-RU", "sv-SE", "th-TH", "tr-TR",
	"uk-UA", "zh-CN", "zh-TW"}

// OperatingSystems are what software is installed on.
var OperatingSystems = []string{"windows-x64", "windows-x86", "windows-arm64", "macos", "linux-x64", "linux-arm64"}

// CheckLanguage returns a product language in its canonical case ("" for
// none given); ok is false for one not offered.
func CheckLanguage(s string) (string, bool) { return oneOf(s, Languages) }

// CheckOS returns an operating system of the list ("" for none given).
func CheckOS(s string) (string, bool) { return oneOf(s, OperatingSystems) }

func oneOf(s string, list []string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return v, true
		}
	}
	return "", false
}

func languageList() string { return strings.Join(Languages, ", ") }
func osList() string       { return strings.Join(OperatingSystems, ", ") }
