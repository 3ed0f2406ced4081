"""Side effects at the edge: MLflow tracking and provenance. The core never imports this package."""
