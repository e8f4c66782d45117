"""Past sessions (layer 6): the journal read back (`record`), an index over the journals
(`store`), exports, the plot and the coach. Reads only what the journals hold."""
