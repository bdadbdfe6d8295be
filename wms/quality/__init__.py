"""ISO 2859-1 sampling plans, inspections, holds and dispositions, supplier qualification."""
