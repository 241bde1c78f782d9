// Package admin is what the broker's operator does with tenants and
// clients — create, correct, show, disable, enable and delete a tenant;
// create, correct, show, disable, enable, delete a client and rotate its
// secret — for the command line and the admin API alike: every change is
// checked, audited with the settings before and after (never a secret,
// never personal data), and confined to the caller's tenant unless the
// caller acts for the operator.
package admin
