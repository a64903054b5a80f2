// Package nft programs and reads edgeward's own nftables table, inet edgeward.
package nft
