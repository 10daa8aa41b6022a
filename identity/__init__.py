"""Identity resolution: customer-bearing records from every feed -> clusters -> stable customer ids."""
