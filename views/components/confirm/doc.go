// Package confirm renders the confirmation step before something is
// deleted or revoked: the question, what follows from it, and a plain form
// (so it works without JavaScript) with the button and a way back.
package confirm
