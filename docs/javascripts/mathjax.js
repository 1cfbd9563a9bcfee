// MathJax 3 configuration for the whole site: the guides' maths comes from
// pymdownx.arithmatex (generic mode, \( \) and \[ \]), the notebooks' from their Markdown
// cells ($ and $$). Re-typeset after each instant-navigation page load (mkdocs-material).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true
  }
};

if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.startup.output.clearCache();
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
