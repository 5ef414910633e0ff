# S/MIME signing (a message processor, see milter-processor.h) adds its
# objects here as prerequisites of $(MILTER_BIN), and its libraries to
# MILTER_LIBS.
