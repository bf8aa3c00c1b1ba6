package kit

import "bytes"

// maxKeysCompared bounds the keys of one object that mayRepeat compares
// pairwise; an object with more is left to repeatedMember's map.
const maxKeysCompared = 32

// mayRepeat reports whether two members of one object of doc (valid JSON)
// could set the same thing: two keys equal but for case, or a key with an
// escape, which it does not decode. encoding/json matches a key to a field
// by bytes.EqualFold, so keys that reach one field are equal but for case.
// Nearly every body has none, and repeatedMember, which finds the exact
// member through the target's fields, walks the document again with the
// decoder's tokens and reflection: a quarter of a small command's
// decoding, for nothing, before this look.
func mayRepeat(doc []byte) bool {
	type frame struct {
		object, wantKey bool
		keys            [][]byte
	}
	stack := make([]frame, 0, 8)
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '{':
			stack = append(stack, frame{object: true, wantKey: true})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; stack[top].object {
				stack[top].wantKey = true
			}
		case '"':
			end, escapes := i+1, false
			for doc[end] != '"' {
				if doc[end] == '\\' {
					escapes = true
					end++
				}
				end++
			}
			if top := len(stack) - 1; top >= 0 && stack[top].wantKey {
				f := &stack[top]
				key := doc[i+1 : end]
				if escapes || len(f.keys) == maxKeysCompared {
					return true
				}
				for _, k := range f.keys {
					if bytes.EqualFold(k, key) {
						return true
					}
				}
				f.keys, f.wantKey = append(f.keys, key), false
			}
			i = end
		}
	}
	return false
}
