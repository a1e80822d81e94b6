// Package tlsconfig builds the TLS configurations of the gateway's
// listeners (the admin API, the embedded NATS server) and of the clients
// that talk to them, from PEM files, with errors that name the file.
package tlsconfig
