package spec_test

import (
	"fmt"

	"github.com/protogen/protogen/spec"
)

// Parse reports every problem of a spec at once, each with its position.
func ExampleParse() {
	_, err := spec.Parse("chat.yaml", []byte(`version: 1
package: chat
protocols:
  - name: Chat
    hooks: [data_recieved]
    flow: {high_water: 64KB}
`), spec.Options{})
	fmt.Println(err)
	// Output:
	// chat.yaml:5:13: unknown hook "data_recieved"; did you mean data_received? (hooks are connection_made, data_received, frame_received, eof_received, connection_lost, pause_writing, resume_writing, state_changed, timeout and bad_message)
	// chat.yaml:6:24: high_water: unknown size unit "KB" (did you mean KiB?): use B, KiB, MiB or GiB
}

// A valid spec resolves into the model the generator prints.
func ExampleParse_model() {
	s, err := spec.Parse("chat.yaml", []byte(`version: 1
package: chat
protocols:
  - name: ChatServer
    fields:
      - {name: rooms, type: "map[string]*example.com/chat/rooms.Room"}
    hooks: [data_received]
`), spec.Options{})
	if err != nil {
		panic(err)
	}
	p := s.Protocols[0]
	fmt.Println(s.OutFile, s.HooksFile)
	fmt.Println(p.Member(spec.RoleConstructor).Name, p.Hooks[0].User.Name)
	fmt.Println(p.Fields[0].Type.ImportPaths()) // the printer names the package
	// Output:
	// chat.protogen.go chat_hooks.go
	// NewChatServer onDataReceived
	// [example.com/chat/rooms]
}
