"""Scan-back (工具 → 导入扫描件…): scanned PDFs/images of printed forms filed to their visit records."""
