package domain

// Page sizes for every list.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// PageParams is a cursor page request: at most Limit items, strictly after
// the item whose ID is StartingAfter in the list's order.
type PageParams struct {
	Limit         int
	StartingAfter string
}

// Page is one page of a list and whether more items follow it.
type Page[T any] struct {
	Data    []T  `json:"data"`
	HasMore bool `json:"has_more"`
}
