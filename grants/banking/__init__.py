"""Bank formats: camt.053 statements in, pain.001 credit transfers out, IBAN checks."""
