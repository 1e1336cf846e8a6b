"""What grantflow hands out as files, rendered from the domain's data without I/O: iCalendar feeds of deadlines, the
printable application form and paper checklist (PDF) with its QR code."""
