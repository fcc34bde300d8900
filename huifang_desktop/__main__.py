import sys

from huifang_desktop.app import main

sys.exit(main())
