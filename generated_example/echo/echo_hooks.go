package echo

// onDataReceived writes data back; Write copies it, and never blocks.
func (p *Echo) onDataReceived(data []byte) { p.Transport().Write(data) }

// onPauseWriting stops reading while the peer does not read.
func (p *Echo) onPauseWriting() { p.PauseReading() }

// onResumeWriting reads again once the echoes have drained.
func (p *Echo) onResumeWriting() { p.ResumeReading() }
