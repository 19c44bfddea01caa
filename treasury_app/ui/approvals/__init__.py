"""The approvals queue and the approver's decision."""
