//! `l2 bench`: latency and throughput of the embedder, the MLP and the whole text-to-decision path.
