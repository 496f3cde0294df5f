"""matplotlib for ganglion's plots, imported when a plot is drawn: it is the optional ``viz`` extra, so importing
ganglion (or ``ganglion.metrics``, ``ganglion.insight``) never needs it."""


def pyplot(who):
    """``matplotlib.pyplot``, or an ImportError that names ``who`` (the module that plots) and the extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f'{who} needs matplotlib: pip install "ganglion[viz]"') from None
    return plt


def axes(ax, who):
    """``ax``, or the axes of a new figure when None."""
    return pyplot(who).subplots()[1] if ax is None else ax
