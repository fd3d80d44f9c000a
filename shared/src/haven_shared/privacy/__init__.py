"""What personal data Haven holds, why, and for how long (`inventory`)."""
