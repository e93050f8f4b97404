"""Data layer: canonical manifest, DICOM reading, dataset adapters, splits and the image cache."""
