// Package testconf holds the configuration the unit tests of several
// packages share: the servers, the office calendar and plans of SPEC §1,
// and a staff with every role. Each test adds its own customers.
package testconf

// Servers is the [mailbox], [smtp], calendar and plan part: the office
// calendar (Asia/Shanghai, Mon-Fri 09:00-12:00 and 13:30-18:00), the 5x8
// plan on it and the 7x24 plan (respond within 4h).
const Servers = `
[mailbox]
address = "imap.example.com:993"
username = "support@example.com"
password = "x"
[smtp]
address = "smtp.example.com:587"
from = "Support <support@example.com>"
[calendars.office]
timezone = "Asia/Shanghai"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-12:00", "13:30-18:00"]
[plans.5x8]
calendar = "office"
priority = "normal"
[plans.7x24]
calendar = "always"
priority = "high"
respond_within = "4h"
`

// Staff is one staff member of each role: engineers eng1 (north) and
// eng2 (south), desk (specialist), csm, scm, impl (implementation
// manager), quality, liaison (foreign liaison) and consult (consulting),
// all @example.com.
const Staff = `
[[staff]]
name = "Eng One"
email = "eng1@example.com"
roles = ["engineer"]
regions = ["north"]
[[staff]]
name = "Eng Two"
email = "eng2@example.com"
roles = ["engineer"]
regions = ["south"]
[[staff]]
name = "Desk"
email = "desk@example.com"
roles = ["specialist"]
[[staff]]
name = "CSM"
email = "csm@example.com"
roles = ["customer_service_manager"]
[[staff]]
name = "SCM"
email = "scm@example.com"
roles = ["service_centre_manager"]
[[staff]]
name = "Impl"
email = "impl@example.com"
roles = ["implementation_manager"]
[[staff]]
name = "Quality"
email = "quality@example.com"
roles = ["quality"]
[[staff]]
name = "Liaison"
email = "liaison@example.com"
roles = ["foreign_liaison"]
[[staff]]
name = "Consult"
email = "consult@example.com"
roles = ["consulting"]
`
