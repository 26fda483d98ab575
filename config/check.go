package config

import (
	"fmt"
	"slices"
)

// crossChecks finds what is valid key by key but unlikely to be meant
// (issue 9 point 7, issue 12): they become Warnings, not Problems, so the
// daemon still starts.
func (v *validator) crossChecks(c *Config) {
	if v.relDB {
		v.warn("database.path", "note: relative to the config file's directory: %s", c.Database.Path)
	}
	engineers := c.StaffWithRole("engineer")
	switch {
	case len(c.Staff) == 0:
		v.warn("staff", "warning: no [[staff]] at all: nobody is notified, no case is assigned")
	case len(engineers) == 0:
		v.warn("staff", "warning: no staff member has the role engineer: no case is assigned")
	}
	serves := func(region string) bool {
		return slices.ContainsFunc(engineers, func(s Staff) bool { return slices.Contains(s.Regions, region) })
	}
	for i, cu := range c.Customers {
		key := fmt.Sprintf("customers.%d", i)
		if len(cu.Contacts) == 0 && len(cu.Domains) == 0 {
			v.warn(key, "warning: %s has no contacts and no domains: no mail can match it (only case open --company reaches it)", cu.Company)
		}
		if cu.Region != "" && len(engineers) > 0 && !serves(cu.Region) {
			v.warn(key+".region", "warning: no engineer serves region %q: %s's cases go to any engineer", cu.Region, cu.Company)
		}
		if cu.HasService("inspection") && len(cu.Inspections) == 0 {
			v.warn(key+".services", "warning: %s has the inspection service but no inspections schedule", cu.Company)
		}
		if len(cu.Inspections) > 0 && !cu.HasService("inspection") {
			v.warn(key+".inspections", "warning: %s does not have the inspection service: no inspection is scheduled (add \"inspection\" to services)", cu.Company)
			c.Customers[i].Inspections = nil
		}
	}
	if r := c.Policy.UnknownRegion; r != "" && len(engineers) > 0 && !serves(r) {
		v.warn("policy.unknown_region", "warning: no engineer serves region %q", r)
	}
}
