"""Hostile PDFs for the verification endpoint: a signature field list repeating one reference many times.

``repeated_field_list(n)`` writes the list in the open (n = 1.6 million gives a 9.6 MB file that costs ~8 s of
CPU inside pyHanko); ``compressed=True`` hides it inside a compressed object stream (690,000 repeats in 7 KB,
~3 s of CPU) where no byte scan before parsing can see it.
"""

from __future__ import annotations

import warnings
from io import BytesIO

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils import writer as pdf_writer

N = generic.NameObject


def repeated_field_list(n: int, *, compressed: bool = False) -> bytes:
    writer = pdf_writer.PdfFileWriter(stream_xrefs=compressed)
    signature = writer.add_object(
        generic.DictionaryObject(
            {
                N("/Type"): N("/Sig"),
                N("/Filter"): N("/Adobe.PPKLite"),
                N("/SubFilter"): N("/adbe.pkcs7.detached"),
                N("/ByteRange"): generic.ArrayObject([generic.NumberObject(0)] * 4),
                N("/Contents"): generic.ByteStringObject(b"\x30\x00"),
            }
        )
    )
    field = writer.add_object(
        generic.DictionaryObject({N("/FT"): N("/Sig"), N("/T"): generic.TextStringObject("x"), N("/V"): signature})
    )
    fields = generic.ArrayObject([field] * n)
    if compressed:
        ref = writer.add_object(fields, obj_stream=writer.prepare_object_stream())
    else:
        ref = writer.add_object(fields)
    writer.root[N("/AcroForm")] = generic.DictionaryObject({N("/Fields"): ref})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
