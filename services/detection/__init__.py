"""Detection: which vendor template is this document?"""
