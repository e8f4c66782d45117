"""The safety supervisor: band, rounding, ramps, watchdogs and the stop latch."""
