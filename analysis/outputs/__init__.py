"""Report outputs: figures (seaborn), tables (markdown) and the numbers quoted in the text
(``_variables.yml`` for Quarto's ``{{< var >}}``), all computed from the derived data and the
model results file. The report documents only include these; nothing is computed in them."""
