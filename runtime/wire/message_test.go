package wire

import (
	"errors"
	"testing"
)

func TestDecodeError(t *testing.T) {
	var err error = &DecodeError{Message: "Set", Field: "key", Offset: 3, Err: ErrTooLong, Detail: "300 bytes, at most 250"}
	if got, want := err.Error(), "wire: Set.key at byte 3: value over its maximum (300 bytes, at most 250)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrTooLong) || !errors.Is(err, ErrBadMessage) {
		t.Errorf("errors.Is(err, ErrTooLong), errors.Is(err, ErrBadMessage) = %v, %v; want true, true", errors.Is(err, ErrTooLong), errors.Is(err, ErrBadMessage))
	}
	if errors.Is(err, ErrTruncated) {
		t.Error("a DecodeError for ErrTooLong matches ErrTruncated")
	}
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "key" {
		t.Errorf("errors.As did not find the DecodeError")
	}
	whole := &DecodeError{Message: "Request", Err: ErrUnknownMessage, Detail: "tag 0x7a"}
	if got, want := whole.Error(), "wire: Request at byte 0: unknown message (tag 0x7a)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestEncodeError(t *testing.T) {
	var err error = &EncodeError{Message: "Get", Field: "key", Err: ErrInvalid, Detail: "a token cannot hold a space"}
	if got, want := err.Error(), "wire: encoding Get.key: invalid value (a token cannot hold a space)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("an EncodeError does not match its reason")
	}
	if errors.Is(err, ErrBadMessage) {
		t.Error("an EncodeError matches ErrBadMessage, which is about what a peer sent")
	}
}

func TestDetails(t *testing.T) {
	tests := []struct{ got, want string }{
		{Need(4, 2), "need 4 bytes, have 2"},
		{Over(300, 250), "300 bytes, at most 250"},
		{OverItems(9, 8), "9 items, at most 8"},
		{UnderItems(0, 1), "0 items, at least 1"},
		{Left(3), "3 bytes left"},
		{Counted(10, 12), "it says 10, the message has 12"},
		{Got(0x81, 0x80), "0x81, want 0x80"},
		{GotBytes([]byte("PGM2"), "PGM1"), `"PGM2", want "PGM1"`},
		{GotInt(-2, -1), "-2, want -1"},
		{Value(0x4d), "0x4d"},
		{ByteValue(0x7a), "0x7a ('z')"},
		{ByteValue(0x80), "0x80"},
		{IntValue(-5), "-5"},
		{TokenDetail([]byte("12x")), `"12x"`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if BoolByte(true) != 1 || BoolByte(false) != 0 {
		t.Errorf("BoolByte(true), BoolByte(false) = %d, %d; want 1, 0", BoolByte(true), BoolByte(false))
	}
	err := DecodeFail("Get", "key", 2, ErrTruncated, Need(4, 2))
	var de *DecodeError
	if !errors.As(err, &de) || de.Message != "Get" || de.Field != "key" || de.Offset != 2 || de.Err != ErrTruncated {
		t.Errorf("DecodeFail = %#v", err)
	}
	if err := EncodeFail("Get", "key", ErrInvalid, "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("EncodeFail does not match its reason: %v", err)
	}
}
