package mailer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A send's error is kept in mail_sent and logged, where no erasure of the
// person reaches: it leaves out the recipient's address and name, in
// whatever case the relay wrote them, and still says what it was.
func TestWithoutRecipient_leaves_out_the_address_and_keeps_the_cause(t *testing.T) {
	to := `"Kim Minji" <Minji.Kim@example.com>`
	refused := fmt.Errorf("rcpt to: 550 5.1.1 <minji.kim@example.com>: Recipient address rejected (%w)", ErrMaybeSent)
	err := withoutRecipient(refused, to)
	if strings.Contains(strings.ToLower(err.Error()), "minji") || !strings.Contains(err.Error(), "550 5.1.1 <[recipient]>") {
		t.Fatalf("error text %q", err)
	}
	if !errors.Is(err, ErrMaybeSent) {
		t.Fatalf("%v no longer says the message may have gone", err)
	}
	unparsed := fmt.Errorf("message to %q: mail: no angle-addr", to)
	if got := withoutRecipient(unparsed, to).Error(); strings.Contains(got, "Minji") {
		t.Fatalf("error text %q", got)
	}
	short := withoutRecipient(errors.New("cannot reach the relay for Ann: timeout"), `"Ann" <ann@example.com>`).Error()
	if short != "cannot reach the relay for [recipient]: timeout" {
		t.Fatalf("a short name left out of %q", short)
	}
	other := errors.New("smtp relay.example:587: connection refused")
	if withoutRecipient(other, to) != other || withoutRecipient(nil, to) != nil {
		t.Fatal("an error naming nobody is changed")
	}
}
