package schema_test

import (
	"errors"
	"fmt"

	"github.com/openrtc-go/introspect/schema"
)

func ExampleValidate() {
	lines := []string{
		`{"time":"2026-11-27T03:12:00Z","level":"INFO","msg":"session.start","v":1,"session_id":"job-1","agent_name":"voice"}`,
		`{"time":"2026-11-27T03:12:01Z","level":"INFO","msg":"GET /healthz","status":200}`,
		`{"time":"2026-11-27T03:12:02Z","level":"INFO","msg":"session.start","v":1,"agent_name":"voice"}`,
		`{"time":"2026-11-27T03:12:03Z","level":"INFO","msg":"session.migrate","v":2,"session_id":"job-1"}`,
	}
	for _, l := range lines {
		switch err := schema.Validate([]byte(l)); {
		case errors.Is(err, schema.ErrForeign):
			fmt.Println("not ours")
		case err != nil:
			fmt.Println(err)
		default:
			fmt.Println("valid")
		}
	}
	// Output:
	// valid
	// not ours
	// invalid event record: "session.start": /: missing property 'session_id'
	// valid
}
