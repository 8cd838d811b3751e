// Package pcsc is the PC/SC adapter: readers, card connections and reader
// events through pcscd. It is the only package that imports
// github.com/ebfe/scard; that needs cgo and libpcsclite, so every other file
// here is built only with cgo, and a CGO_ENABLED=0 build sees an empty
// package (its importers carry the same constraint). The rest of the
// program sees a device.Transport and plain events.
package pcsc
