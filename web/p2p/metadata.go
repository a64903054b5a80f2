package p2p

// peerMetadataJSON is the original's Peer_metadata: the distributed DB's
// counters of a peer, each a Z integer written as a decimal string.
// edgeward relays no blocks or operations, so every counter is "0"; the
// object is there because the original's schema requires it.
type peerMetadataJSON struct {
	Responses              responsesJSON      `json:"responses"`
	Requests               requestsJSON       `json:"requests"`
	ValidBlocks            string             `json:"valid_blocks"`
	OldHeads               string             `json:"old_heads"`
	PrevalidatorResults    prevalidatorJSON   `json:"prevalidator_results"`
	UnactivatedChains      string             `json:"unactivated_chains"`
	InactiveChains         string             `json:"inactive_chains"`
	FutureBlocksAdvertised string             `json:"future_blocks_advertised"`
	Unadvertised           unadvertisedJSON   `json:"unadvertised"`
	Advertisements         advertisementsJSON `json:"advertisements"`
}

// messagesJSON counts the distributed DB's messages by kind.
type messagesJSON struct {
	Branch                 string `json:"branch"`
	Head                   string `json:"head"`
	BlockHeader            string `json:"block_header"`
	Operations             string `json:"operations"`
	Protocols              string `json:"protocols"`
	OperationHashesByBlock string `json:"operation_hashes_for_block"`
	OperationsForBlock     string `json:"operations_for_block"`
	Checkpoint             string `json:"checkpoint"`
	Other                  string `json:"other"`
}

type responsesJSON struct {
	Sent       messagesJSON `json:"sent"`
	Failed     messagesJSON `json:"failed"`
	Received   messagesJSON `json:"received"`
	Unexpected string       `json:"unexpected"`
	Outdated   string       `json:"outdated"`
}

type requestsJSON struct {
	Sent      messagesJSON `json:"sent"`
	Received  messagesJSON `json:"received"`
	Failed    messagesJSON `json:"failed"`
	Scheduled messagesJSON `json:"scheduled"`
}

type prevalidatorJSON struct {
	CannotDownload      string `json:"cannot_download"`
	CannotParse         string `json:"cannot_parse"`
	RefusedByPrefilter  string `json:"refused_by_prefilter"`
	RefusedByPostfilter string `json:"refused_by_postfilter"`
	Applied             string `json:"applied"`
	BranchDelayed       string `json:"branch_delayed"`
	BranchRefused       string `json:"branch_refused"`
	Refused             string `json:"refused"`
	Duplicate           string `json:"duplicate"`
	Outdated            string `json:"outdated"`
}

type unadvertisedJSON struct {
	Block      string `json:"block"`
	Operations string `json:"operations"`
	Protocol   string `json:"protocol"`
}

type advertisementKindJSON struct {
	Head   string `json:"head"`
	Branch string `json:"branch"`
}

type advertisementsJSON struct {
	Sent     advertisementKindJSON `json:"sent"`
	Received advertisementKindJSON `json:"received"`
}

// emptyPeerMetadata is the metadata of a peer nothing was counted for.
func emptyPeerMetadata() peerMetadataJSON {
	m := messagesJSON{"0", "0", "0", "0", "0", "0", "0", "0", "0"}
	ad := advertisementKindJSON{"0", "0"}
	return peerMetadataJSON{
		Responses:              responsesJSON{Sent: m, Failed: m, Received: m, Unexpected: "0", Outdated: "0"},
		Requests:               requestsJSON{Sent: m, Received: m, Failed: m, Scheduled: m},
		ValidBlocks:            "0",
		OldHeads:               "0",
		PrevalidatorResults:    prevalidatorJSON{"0", "0", "0", "0", "0", "0", "0", "0", "0", "0"},
		UnactivatedChains:      "0",
		InactiveChains:         "0",
		FutureBlocksAdvertised: "0",
		Unadvertised:           unadvertisedJSON{"0", "0", "0"},
		Advertisements:         advertisementsJSON{Sent: ad, Received: ad},
	}
}
