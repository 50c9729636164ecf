"""Deterministic generators for the built-in tasks.

A built-in task is data, but writing hundreds of questions, answers and corpus
sentences by hand lets them drift apart: a fee changed in one file and not in
another, a test question copied from train. Each generator here reads one facts
table and writes the whole task folder from it, byte for byte the same every
time, so the committed folder can be checked against a fresh regeneration.
"""
