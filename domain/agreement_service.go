package domain

import "context"

// AgreementService stores agreement versions.
type AgreementService interface {
	// CreateAgreement validates a and stores it as the client's next version.
	// A version that raises the client's burden while the client has issued
	// invoices must take effect at least the business notice period after
	// today; creating it records a policy-change notice. Returns EINVALID,
	// ENOTFOUND (client), ECLIENTOFFBOARDED, ENOTICEPERIOD.
	CreateAgreement(ctx context.Context, clientID string, a Agreement) (*Agreement, error)
	// FindAgreements lists the client's versions, oldest first. Returns ENOTFOUND.
	FindAgreements(ctx context.Context, clientID string) ([]Agreement, error)
	// AgreementInForce returns the version in force on day, or the business
	// default when the client has none. Returns ENOTFOUND.
	AgreementInForce(ctx context.Context, clientID string, day Date) (Agreement, error)
	// AcceptAgreement records the client's acceptance of a version that
	// requires it (acc.AcceptedAt is set to now), emits agreement.accepted
	// and returns the version with its acceptance. Returns ENOTFOUND (no
	// such version of the client), ECONFLICT (accepted already, or the
	// version asks for no acceptance).
	AcceptAgreement(ctx context.Context, clientID, agreementID string, acc Acceptance) (*Agreement, error)
}
