package workload

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"net"
)

// RADIUS packet codes (RFC 2865).
const (
	radiusAccessRequest = 1
	radiusAccessAccept  = 2
	radiusHeaderLen     = 20
)

// radiusServer is a RADIUS server on 127.0.0.1 that accepts every
// Access-Request signed with its secret: enough for the server's RADIUS
// authentication to run to the end without a real RADIUS server.
type radiusServer struct {
	conn   *net.UDPConn
	secret string
}

// startRADIUS listens on a free UDP port and answers until ctx ends.
func startRADIUS(ctx context.Context, secret string) (*radiusServer, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	s := &radiusServer{conn: conn, secret: secret}
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	go s.serve()
	return s, nil
}

func (s *radiusServer) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

func (s *radiusServer) close() { s.conn.Close() }

func (s *radiusServer) serve() {
	buf := make([]byte, 4096)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if reply := radiusAccept(buf[:n], s.secret); reply != nil {
			s.conn.WriteToUDP(reply, from)
		}
	}
}

// radiusAccept answers an Access-Request with an Access-Accept whose
// Response Authenticator is MD5(Code+ID+Length+Request Authenticator+
// Attributes+Secret); nil for anything else.
func radiusAccept(request []byte, secret string) []byte {
	if len(request) < radiusHeaderLen || request[0] != radiusAccessRequest {
		return nil
	}
	if int(binary.BigEndian.Uint16(request[2:4])) > len(request) {
		return nil
	}
	reply := make([]byte, radiusHeaderLen)
	reply[0], reply[1] = radiusAccessAccept, request[1]
	binary.BigEndian.PutUint16(reply[2:4], radiusHeaderLen)
	h := md5.New()
	h.Write(reply[:4])
	h.Write(request[4:20])
	h.Write([]byte(secret))
	copy(reply[4:20], h.Sum(nil))
	return reply
}
