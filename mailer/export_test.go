package mailer

// SlowSend is how long a send takes for the mailer to claim one email a
// commit after it (window).
const SlowSend = slowSend
