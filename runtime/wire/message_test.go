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
