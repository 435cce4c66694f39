// Package doccheck holds a test that every public package of the module
// documents itself and every exported name, so that go doc reads as a
// manual. It has no API.
package doccheck
