"""Test helpers shared by every reformatters package: ``fixtures`` (the pytest plugin: real
fixtures, session mirrors, scratch folders, a moto S3 server), ``backfill`` (backfill a dataset
from a mirror and open its store; a region job over a template) and ``expected`` (expected values
after the declared transforms, compared with what a backfill stored)."""
